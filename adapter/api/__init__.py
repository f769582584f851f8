"""HTTP entry points: the native API (/api), the FHIR API (/fhir) and error handling."""
