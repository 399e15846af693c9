import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigErrors,
  EndpointNotFoundError,
  GatewayError,
  RequestValidationError,
  UnsupportedOperationError,
} from '../src/errors.js';

describe('GatewayError', () => {
  it('accepts an error branded by another copy of llmgw through instanceof', () => {
    const foreign = { [Symbol.for('llmgw.GatewayError')]: true };
    expect(foreign instanceof GatewayError).toBe(true);
  });

  it('keeps the ordinary prototype check for subclasses', () => {
    expect(new GatewayError(500, 'INTERNAL', 'x') instanceof UnsupportedOperationError).toBe(false);
  });

  it("builds the reference's 501 message", () => {
    const error = new UnsupportedOperationError('chat streaming', 'Anthropic');
    expect([error.status, error.detail]).toEqual([
      501,
      'The chat streaming route is not implemented for Anthropic models.',
    ]);
  });

  it('names the first invalid field as param of a validation error', () => {
    const error = new RequestValidationError([
      { type: 'missing', loc: ['body', 'messages', 0, 'role'], msg: 'Field required', input: {} },
    ]);
    expect(error.param).toBe('messages.0.role');
  });

  it('gives a json_invalid error no param, since its loc ends with an offset', () => {
    const error = new RequestValidationError([
      { type: 'json_invalid', loc: ['body', 3], msg: 'JSON decode error', input: {} },
    ]);
    expect(error.param).toBeNull();
  });

  it('sets param model on the /v1 400 for an unknown endpoint', () => {
    expect(new EndpointNotFoundError('Route x not found in the configuration.', 400).param).toBe('model');
  });
});

describe('ConfigError.format', () => {
  const error = new ConfigError('bad', { endpoint: 'chat', path: 'endpoints[0].name', line: 3, column: 5 });

  it('names file, line, column, endpoint and field', () => {
    expect(error.format('gw.yaml')).toBe("gw.yaml:3:5 endpoint 'chat' at endpoints[0].name: bad");
  });

  it('names the line when no file is given', () => {
    expect(error.format()).toBe("line 3 endpoint 'chat' at endpoints[0].name: bad");
  });

  it('does not repeat a file the message already names', () => {
    expect(new ConfigError('gw.yaml does not exist').format('gw.yaml')).toBe('gw.yaml does not exist');
  });

  it('prints the bare message without any location', () => {
    expect(new ConfigError('bad').format()).toBe('bad');
  });

  it('joins all problems of a file in ConfigErrors', () => {
    expect(new ConfigErrors([error, new ConfigError('worse')]).message).toBe(
      "line 3 endpoint 'chat' at endpoints[0].name: bad\nworse",
    );
  });
});
