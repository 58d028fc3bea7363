import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Longer URLs are refused: no endpoint needs one, and they end up in every log line of a delivery. */
const MAX_URL_LENGTH = 2_048;

/**
 * An address anyone on the internet could reach: not loopback, private, link-local (cloud metadata
 * services), carrier-grade NAT, multicast, reserved or unspecified. An IPv4-mapped IPv6 address is
 * judged as the IPv4 address it maps.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  const effective =
    parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
      ? (parsed as ipaddr.IPv6).toIPv4Address()
      : parsed;
  return effective.range() === 'unicast';
}

export type UrlVerdict = { readonly url: URL } | { readonly problem: string };

/**
 * Whether deliveries may go to `raw`: an http or https URL without credentials, and with
 * `blockPrivateNetworks`, a host whose every address is public (checked again at each delivery,
 * since DNS may answer differently later).
 */
export async function checkWebhookUrl(raw: string, blockPrivateNetworks: boolean): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'The webhook URL is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { problem: 'The webhook URL must be http:// or https://' };
  if (url.username !== '' || url.password !== '')
    return { problem: 'The webhook URL must not carry credentials; verify the signature instead' };
  if (raw.length > MAX_URL_LENGTH)
    return { problem: `The webhook URL is longer than ${MAX_URL_LENGTH} characters` };
  if (!blockPrivateNetworks) return { url };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return { problem: `The webhook URL's host ${host} does not resolve` };
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress))
    return { problem: `The webhook URL's host ${host} resolves to a loopback or private address` };
  return { url };
}

/**
 * A `lookup` for http.request that connects only to public addresses: the address checked is the
 * one connected to, so a name that resolved to a public address at registration cannot be rebound
 * to an internal one for the delivery. (IP literals are not looked up: check them with
 * `isPublicAddress` before the request.)
 */
export const publicAddressLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true })
    .then((entries) => {
      const blocked = entries.find((entry) => !isPublicAddress(entry.address));
      if (blocked !== undefined || entries.length === 0) {
        const error: NodeJS.ErrnoException = new Error(
          `${hostname} resolves to ${blocked?.address ?? 'nothing'}, which is not a public address`,
        );
        error.code = 'EADDRNOTPUBLIC';
        callback(error, '', 0);
        return;
      }
      if (options.all === true) callback(null, entries);
      else callback(null, entries[0]?.address ?? '', entries[0]?.family ?? 4);
    })
    .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
};
