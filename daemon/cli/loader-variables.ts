import { BellaError } from '../api/errors';

/**
 * Variables that make a program load or run code it did not choose: the dynamic loader's, the
 * shells' start-up and prompt hooks, interpreters' option and library paths, and tools that run
 * a command they are given. A secret of one of these names is never injected (`bella run`,
 * `bella inject`, `pull -o shell|dotenv`) unless the user names it with `--allow-env NAME`.
 * Defends the holder's machine against a compromised server or store turning a secret into code
 * run by every program started with it (`LD_PRELOAD=/tmp/evil.so`, `NODE_OPTIONS=--require …`).
 * Compared case-insensitively: Windows reads `Path` as `PATH`.
 */
export const LOADER_VARIABLES: readonly string[] = [
  // Shells: search path, start-up files, word splitting, options, prompts run on every prompt.
  'PATH',
  'ENV',
  'BASH_ENV',
  'ZDOTDIR',
  'FPATH',
  'IFS',
  'SHELLOPTS',
  'BASHOPTS',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'PROMPT_COMMAND',
  // glibc: character set converters and locale data are loaded as code or parsed from there.
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  // Interpreters and runtimes: code loaded at start-up.
  'NODE_OPTIONS',
  'NODE_PATH',
  'ELECTRON_RUN_AS_NODE',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONUSERBASE',
  'PYTHONBREAKPOINT',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'PERL5DB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'PHPRC',
  'PHP_INI_SCAN_DIR',
  'DOTNET_STARTUP_HOOKS',
  'OPENSSL_CONF',
  'OPENSSL_ENGINES',
  // Tools that run a command named in a variable.
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_PROXY_COMMAND',
  'GIT_ASKPASS',
  'GIT_EXEC_PATH',
  'GIT_EDITOR',
  'GIT_PAGER',
  'GIT_TEMPLATE_DIR',
  'SSH_ASKPASS',
  'SUDO_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'LESSOPEN',
  'LESSCLOSE',
];

/** Prefixes of whole families: the loaders (`LD_PRELOAD`, `DYLD_INSERT_LIBRARIES`), git and npm configuration, .NET profilers, Lua. */
export const LOADER_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'GIT_CONFIG', 'NPM_CONFIG_', 'CORECLR_', 'LUA_'];

const NAMES = new Set(LOADER_VARIABLES);

/** True when `key` is a loader variable ({@link LOADER_VARIABLES}, {@link LOADER_PREFIXES}). */
export function isLoaderVariable(key: string): boolean {
  const upper = key.toUpperCase();
  return NAMES.has(upper) || LOADER_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/**
 * Refuses the first loader variable among `keys` that `--allow-env` did not name, saying how
 * to allow it. `what` says where it was going (`the command's environment`).
 */
export function refuseLoaderVariables(keys: Iterable<string>, allowed: readonly string[] = [], what: string): void {
  const allow = new Set(allowed.map((k) => k.toUpperCase()));
  for (const key of keys) {
    if (isLoaderVariable(key) && !allow.has(key.toUpperCase())) {
      throw new BellaError(
        'permission_denied',
        `${key} changes what programs load or run, so bella does not put it in ${what} by default: pass --allow-env ${key} if you mean it`,
      );
    }
  }
}
