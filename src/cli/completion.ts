// Shell completion for berth: commands, group subcommands, and container or image names asked
// from the daemon (`berth ps`/`berth images` with --format) where a command takes them.

export interface CompletionTables {
  commands: string[];
  groups: Record<string, string[]>;
}

const CONTAINER_CMDS = ['attach', 'commit', 'cp', 'diff', 'exec', 'export', 'inspect', 'kill', 'logs', 'pause', 'port', 'rename', 'restart', 'rm', 'start', 'stats', 'stop', 'top', 'unpause', 'update', 'wait'];
const IMAGE_CMDS = ['history', 'push', 'rmi', 'save', 'tag', 'run', 'create'];

export function completionScript(shell: 'bash' | 'zsh', t: CompletionTables): string {
  const groupCases = Object.entries(t.groups)
    .map(([g, subs]) => `      ${g}) COMPREPLY=( $(compgen -W "${[...new Set(subs)].sort().join(' ')}" -- "$cur") ); return ;;`)
    .join('\n');
  const bash = `# berth completion for bash: eval "$(berth completion bash)"
_berth() {
  local cur prev cmd
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${t.commands.join(' ')}" -- "$cur") )
    return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    case "$cmd" in
${groupCases}
    esac
  fi
  case "$cur" in -*) return ;; esac
  case "$cmd" in
    ${CONTAINER_CMDS.join('|')})
      COMPREPLY=( $(compgen -W "$(berth ps -a --format '{{.Names}}' 2>/dev/null)" -- "$cur") ) ;;
    ${IMAGE_CMDS.join('|')})
      COMPREPLY=( $(compgen -W "$(berth images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>')" -- "$cur") ) ;;
  esac
}
complete -F _berth berth
`;
  if (shell === 'bash') return bash;
  return `#compdef berth
# berth completion for zsh: eval "$(berth completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash}`;
}
