/**
 * What the page offers, from the scopes GET /DANE/auth/me answers and nothing else: the server decides who may
 * do what, and the page only leaves out the buttons that would be refused. Scopes imply the lower ones (admin:
 * write: read), as the server's do.
 */

export interface Me {
  name: string;
  scopes: string[];
  mode: string;
}

export interface Capabilities {
  /** Any of the dashboard's data. */
  read: boolean;
  /** Retry, force retry, reset or delete one task (routes that need `write`). */
  act: boolean;
  /** The same on a selection or on every task a filter matches (POST /DANE/tasks/{action} needs `admin`). */
  bulk: boolean;
}

export function capabilitiesOf(me: Pick<Me, 'scopes'> | undefined): Capabilities {
  const scopes = new Set(me?.scopes ?? []);
  const bulk = scopes.has('admin');
  const act = bulk || scopes.has('write');
  return { read: act || scopes.has('read'), act, bulk };
}
