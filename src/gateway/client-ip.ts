import { isIPv4, isIPv6 } from 'node:net';

/**
 * The client's address: the socket's peer, or, behind `trustProxy` proxies of our own, the
 * address the outermost of them saw. Each proxy appends the address it got the request from
 * to X-Forwarded-For, so counting `trustProxy` entries from the right (the socket's peer being
 * the first) lands on the last address no proxy of ours vouches for; whatever a client wrote
 * further left is not believed.
 */
export function clientIp(remote: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: number): string {
  const peer = remote ?? 'unknown';
  if (trustProxy <= 0 || forwardedFor === undefined) return peer;
  const forwarded = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const hops = [...forwarded, peer];
  const candidate = hops[Math.max(0, hops.length - 1 - trustProxy)]!;
  // A proxy writes addresses; anything else came from a client and says nothing.
  return isIPv4(candidate) || isIPv6(candidate) ? candidate : peer;
}

/**
 * The key that limits are counted under: an IPv4 address, or the /64 network of an IPv6
 * address (one subscriber gets a whole /64 and can rotate through it at will).
 */
export function limitKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const bare = ip.split('%')[0]!.toLowerCase();
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::ffff:0:1.2.3.4 and the like) fills two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)))
    .join(':')}::/64`;
}
