"""The native JSON API's schemas: native referral JSON ⇄ domain objects, checked at the edge."""
