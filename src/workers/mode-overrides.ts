import type { ProxyConfig } from '../config/schema.js';
import type { AdminCaller } from '../observe/admin-server.js';
import type { ListenerMode } from '../proxy/listener-authorization.js';

/** A listener mode switched live through the admin endpoint, over what the config file says. */
export interface ModeOverride extends AdminCaller {
  mode: ListenerMode;
  /** The config file's mode when the switch was made: a file that says otherwise later ends it. */
  configuredMode: ListenerMode;
  at: Date;
}

/** Why an override ended without an admin call. */
export interface EndedOverride {
  listener: string;
  reason: string;
}

/**
 * The live mode switches of the emergency kind (enforce -> allow-all while a permissions outage
 * locks clients out). They last while the supervisor runs, across reloads and rolling restarts,
 * until switched back, until the config file itself changes that listener's mode, or until the
 * listener leaves the config; a restart of the whole proxy starts from the file.
 */
export class ModeOverrides {
  private readonly byListener = new Map<string, ModeOverride>();

  /** Records a switch; switching to the file's own mode ends the override. Returns whether one is now in force. */
  set(listener: string, mode: ListenerMode, configuredMode: ListenerMode, caller: AdminCaller): boolean {
    if (mode === configuredMode) {
      this.byListener.delete(listener);
      return false;
    }
    this.byListener.set(listener, { mode, configuredMode, by: caller.by, address: caller.address, at: new Date() });
    return true;
  }

  get(listener: string): ModeOverride | undefined {
    return this.byListener.get(listener);
  }

  /**
   * `fileConfig` with the overrides in force applied (the same object when there are none).
   * Overrides whose listener is gone, or whose mode the file now sets differently, end here.
   */
  applyTo(fileConfig: ProxyConfig): { config: ProxyConfig; ended: EndedOverride[] } {
    const ended: EndedOverride[] = [];
    for (const [name, override] of this.byListener) {
      const listener = fileConfig.listeners.find((l) => l.name === name);
      const reason = !listener ? 'the listener is no longer in the config file' : listener.mode !== override.configuredMode ? `the config file now sets mode ${listener.mode}` : undefined;
      if (reason === undefined) continue;
      this.byListener.delete(name);
      ended.push({ listener: name, reason });
    }
    if (this.byListener.size === 0) return { config: fileConfig, ended };
    const listeners = fileConfig.listeners.map((l) => {
      const override = this.byListener.get(l.name);
      return override ? { ...l, mode: override.mode } : l;
    });
    return { config: { ...fileConfig, listeners }, ended };
  }
}
