/**
 * ZooKeeper's error codes, with the names and numbers of KeeperException.Code (ZooKeeper 3.9),
 * and `KeeperError`, the one error type the public API throws.
 *
 * Three outcomes (STYLE.md): a programmer bug fails an assertion (see assert.ts); an operational
 * error is a KeeperError with ZooKeeper's code; a client result is ok | fail | unknown, where
 * CONNECTIONLOSS and OPERATIONTIMEOUT are the "unknown" ones.
 */

export const ErrorCode = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

export type ErrorName = keyof typeof ErrorCode;
/** Every code except OK: what a failed operation carries. */
export type FailureName = Exclude<ErrorName, 'OK'>;

const nameByErrno = new Map<number, ErrorName>(
  (Object.entries(ErrorCode) as [ErrorName, number][]).map(([name, errno]) => [errno, name]),
);

/** The name for a numeric code, or undefined for a number ZooKeeper does not define. */
export function errorNameOf(errno: number): ErrorName | undefined {
  return nameByErrno.get(errno);
}

/** True for the codes whose operation may or may not have taken effect. */
export function isOutcomeUnknown(code: ErrorName): boolean {
  return code === 'CONNECTIONLOSS' || code === 'OPERATIONTIMEOUT';
}

/** The error every public call rejects with. `code` and `errno` are ZooKeeper's. */
export class KeeperError extends Error {
  readonly code: FailureName;
  readonly errno: number;
  /** The path the failed operation named, when it named one. */
  readonly path: string | undefined;

  constructor(code: FailureName, message?: string, path?: string) {
    const detail = message ?? code;
    super(path === undefined ? `${code}: ${detail}` : `${code} for ${path}: ${detail}`);
    this.name = 'KeeperError';
    this.code = code;
    this.errno = ErrorCode[code];
    this.path = path;
  }
}
