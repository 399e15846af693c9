import { Socket } from 'node:net';

// No test may reach the internet: any socket to an address outside loopback fails the test.
const LOOPBACK = /^(127\.|::1$|::ffff:127\.|localhost$)/;
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with the socket as `this`
const originalConnect = Socket.prototype.connect;

function hostOf(args: unknown[]): string | undefined {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string };
    if (options.path !== undefined) return 'localhost';
    return options.host ?? 'localhost';
  }
  if (typeof first === 'number') return typeof second === 'string' ? second : 'localhost';
  if (typeof first === 'string') return 'localhost';
  return undefined;
}

Socket.prototype.connect = function connect(this: Socket, ...args: unknown[]) {
  const first = args[0];
  const host = hostOf(Array.isArray(first) ? first : args);
  if (host !== undefined && !LOOPBACK.test(host)) {
    throw new Error(`Test tried to open a socket to ${host}; tests may only reach 127.0.0.1.`);
  }
  return (originalConnect as (...rest: unknown[]) => Socket).apply(this, args);
};
