#!/usr/bin/env node
// Line protocol for the Python test harness (tests/support/fhirjs.py):
// one JSON resource per line on stdin -> one JSON line {"valid", "messages"} per input on stdout.
// A single long-running process, because loading the R4 definitions costs far more than a check.
'use strict';

const readline = require('readline');
const { Fhir } = require('fhir');

// Built once: the constructor parses the whole R4 base specification.
const fhir = new Fhir();
const OPTIONS = { errorOnUnexpected: true };

function failure(message) {
  return { valid: false, messages: [{ severity: 'fatal', location: '', message }] };
}

function check(line) {
  let resource;
  try {
    resource = JSON.parse(line);
  } catch (err) {
    return failure('input line is not JSON: ' + err.message);
  }
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    return failure('input line is not a JSON object');
  }
  try {
    const result = fhir.validate(resource, OPTIONS);
    return { valid: Boolean(result.valid), messages: result.messages || [] };
  } catch (err) {
    // FHIR.js throws on some malformed shapes; report it as a finding rather than dying,
    // so one bad resource never takes the harness down for the rest of the run.
    return failure('FHIR.js threw: ' + (err && err.message ? err.message : String(err)));
  }
}

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (line.trim() === '') {
    return;
  }
  process.stdout.write(JSON.stringify(check(line)) + '\n');
});
