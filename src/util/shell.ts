/** Quote one argument for a POSIX shell, leaving plain words as they are. */
export function shq(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shJoin(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}

/** `env K=V …` prefix for a command with extra environment, or nothing. */
export function envArgv(env: Record<string, string> | undefined): string[] {
  return env && Object.keys(env).length ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)] : [];
}
