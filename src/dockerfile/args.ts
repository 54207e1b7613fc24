// The build arguments every Dockerfile may use without declaring them.

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

function platformString(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * TARGET* and BUILD* for a platform (`linux/arm64/v8`). The build platform is the target's
 * unless given: berth builds natively.
 */
export function predefinedArgs(platform: Platform, opts: { build?: Platform } = {}): Map<string, string> {
  const build = opts.build ?? platform;
  return new Map([
    ['TARGETPLATFORM', platformString(platform)],
    ['TARGETOS', platform.os],
    ['TARGETARCH', platform.architecture],
    ['TARGETVARIANT', platform.variant ?? ''],
    ['BUILDPLATFORM', platformString(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

const PROXY_ARGS = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

/** Proxy variables: usable as build args without an ARG, and kept out of image history. */
export function isProxyArg(name: string): boolean {
  return PROXY_ARGS.has(name);
}
