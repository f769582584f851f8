#!/usr/bin/env node
// FHIR XML -> FHIR JSON with FHIR.js (the test harness's copy under tests/fhirjs).
// Input: one JSON line per file on stdin, {"name": ..., "xml": ...}; output: {"name", "json"} lines.
'use strict';

const path = require('path');
const readline = require('readline');
const { Fhir } = require(path.join(__dirname, '..', '..', 'tests', 'fhirjs', 'node_modules', 'fhir'));

const fhir = new Fhir();
const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (line.trim() === '') {
    return;
  }
  const { name, xml } = JSON.parse(line);
  let json = null;
  let error = null;
  try {
    json = JSON.parse(fhir.xmlToJson(xml));
  } catch (err) {
    error = String(err && err.message ? err.message : err);
  }
  process.stdout.write(JSON.stringify({ name, json, error }) + '\n');
});
