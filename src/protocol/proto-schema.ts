/**
 * The text of src/protocol/arqonbus.proto, as a module so the schema lands in
 * dist/ with tsc and loads in browsers (no file system). A test checks that
 * this string and the .proto file are identical: edit both together.
 */
export const PROTO_TEXT = `// ArqonBus v1 binary subprotocol (WebSocket subprotocol "arqonbus.v1.proto").
//
// One binary WebSocket frame carries exactly one Envelope. The message mirrors
// the v1 JSON envelope field for field (docs/protocol.md#binary-subprotocol):
// the same names, the same validation, the same errors. Arbitrary JSON
// (payload, metadata, v1 args) travels as JSON text in string fields, which
// keeps it lossless (large numbers, nested arrays, nulls) and cheap to encode.
//
// This file is the source of truth; src/protocol/proto-schema.ts holds the same
// text (a test checks they are identical) so the schema ships inside dist/.
syntax = "proto3";

package arqonbus.v1;

message Envelope {
  // Every field has presence: an absent field is an absent (or null) JSON key.
  optional string version = 1;
  optional string id = 2;
  // "event", "private", "command", "command_response", "system", "telemetry", "error".
  optional string type = 3;
  // Absent means null.
  optional string room = 4;
  optional string channel = 5;
  optional string from = 6;
  // ISO 8601.
  optional string timestamp = 7;
  // JSON text of the payload object.
  optional string payload_json = 8;
  // JSON text of the metadata object.
  optional string metadata_json = 9;

  // Errors (type "error"): absent request_id means null.
  optional string request_id = 10;
  optional string error = 11;
  optional string error_code = 12;
  optional bool retryable = 13;

  // v1 compatibility: a top-level command and its args (JSON text).
  optional string command = 14;
  optional string args_json = 15;

  // JSON text of an object holding any other top-level keys, and keys whose
  // value does not fit the typed field above (e.g. "version": null).
  optional string extra_json = 16;
}
`;
