import { Argument, type Command } from 'commander';

export function registerCompletion(program: Command): void {
  program.command('completion')
    .description('Print a shell completion script (commands, subcommands, options, choices) made from this CLI\'s own command tree')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .addHelpText('after', `
Install (bash, needs the bash-completion package for the directory form):
  mooring completion bash > ~/.local/share/bash-completion/completions/mooring
  # or, without bash-completion: echo 'source <(mooring completion bash)' >> ~/.bashrc

Install (zsh):
  mooring completion zsh > "\${fpath[1]}/_mooring"      # a directory on $fpath; then a new shell
  # or: echo 'source <(mooring completion zsh)' >> ~/.zshrc   (after compinit)

Examples:
  mooring ba<TAB> → backup;  mooring list -o <TAB> → table json yaml;  -c <TAB> → files
Re-run after upgrading Mooring so new commands complete.`)
    .action(async (shell: 'bash' | 'zsh', _o: unknown, cmd: Command) => {
      const { bashCompletion, zshCompletion } = await import('../completion.js');
      let root = cmd;
      while (root.parent) root = root.parent;
      process.stdout.write(shell === 'bash' ? bashCompletion(root) : zshCompletion(root));
    });
}
