/** Typed readers for command parameters; each failure names the parameter. */
import { isJsonObject, isValidName, parseIsoTime, type JsonObject } from '../../protocol/envelope.js';
import { ParameterError } from '../../protocol/errors.js';

export function requiredName(params: JsonObject, key: string): string {
  const v = params[key];
  if (!isValidName(v)) throw new ParameterError(key, `${key} must be 1-128 characters of A-Z a-z 0-9 _ . @ + -`);
  return v;
}

/** `room` + `channel`, or `channel: "room:channel"`. */
export function requiredAddress(params: JsonObject): { room: string; channel: string } {
  const channel = params['channel'];
  if (params['room'] == null && typeof channel === 'string' && channel.includes(':')) {
    const i = channel.indexOf(':');
    return requiredAddress({ room: channel.slice(0, i), channel: channel.slice(i + 1) });
  }
  return { room: requiredName(params, 'room'), channel: requiredName(params, 'channel') };
}

export function optionalString(params: JsonObject, key: string, maxLength = 256): string | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > maxLength) {
    throw new ParameterError(key, `${key} must be a string of at most ${maxLength} characters`);
  }
  return v;
}

export function optionalInt(params: JsonObject, key: string, min: number, max: number): number | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ParameterError(key, `${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** An ISO 8601 timestamp, returned as ms since the epoch. */
export function optionalTime(params: JsonObject, key: string): number | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  const ms = parseIsoTime(v);
  if (Number.isNaN(ms)) throw new ParameterError(key, `${key} must be an ISO 8601 timestamp`);
  return ms;
}

export function optionalObject(params: JsonObject, key: string): JsonObject | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v)) throw new ParameterError(key, `${key} must be an object`);
  return v;
}

export function optionalBool(params: JsonObject, key: string): boolean | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ParameterError(key, `${key} must be true or false`);
  return v;
}
