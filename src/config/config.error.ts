/** Thrown at start-up for invalid configuration; its message is one line naming the variable. */
export class ConfigError extends Error {
  constructor(variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}
