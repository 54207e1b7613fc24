// git: shallow checkouts of remote build contexts. Only the network protocols Docker allows are
// enabled (no file://, no ext::), and git never prompts for credentials.
import { run, ExecError } from '../exec/index.ts';

const GIT_CONFIG = ['-c', 'protocol.allow=never', '-c', 'protocol.https.allow=always', '-c', 'protocol.http.allow=always', '-c', 'protocol.git.allow=always', '-c', 'protocol.ssh.allow=always'];

/**
 * Checks out ref (default HEAD) of url into dir (which exists), with its submodules, as shallow as
 * the server allows. Failures throw an Error whose message is git's last line of complaint.
 */
export async function checkout(url: string, ref: string | undefined, dir: string, opts: { home: string; signal?: AbortSignal }): Promise<void> {
  const env = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false', SSH_ASKPASS: '/bin/false', HOME: opts.home };
  const git = (args: string[]): Promise<unknown> => run(['git', ...GIT_CONFIG, '-C', dir, ...args], { env, ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    await git(['init', '-q']);
    await git(['remote', 'add', 'origin', url]);
    // Shallow when the server can (a "dumb" HTTP server cannot: then the whole history).
    await git(['fetch', '-q', '--depth', '1', '--recurse-submodules=no', 'origin', ref ?? 'HEAD']).catch(() => git(['fetch', '-q', '--recurse-submodules=no', 'origin', ref ?? 'HEAD']));
    await git(['checkout', '-q', 'FETCH_HEAD']);
    await git(['submodule', 'update', '-q', '--init', '--recursive', '--depth', '1']).catch(() => {});
  } catch (err) {
    if (err instanceof ExecError) throw new Error(err.stderr.trim().split('\n').at(-1) || err.message, { cause: err });
    throw err;
  }
}
