// Express bootstrap shared by every app of every version: views, CSS, sessions, request
// log, debug pages, not-found and error pages, and the headers every page carries. Nothing
// OAuth-specific lives here: an app that speaks OAuth words its own errors (`errorBody`).

import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { appNames, type AppRole } from './config.ts';
import { debugRoutes, type DebugState } from './debug.ts';
import { ExpiringSessionStore } from './session-store.ts';

const sharedDir = path.dirname(fileURLToPath(import.meta.url));

export interface AppOptions {
  role: AppRole;
  /** Browser-facing base URL of this app, e.g. http://localhost:9001. */
  baseUrl: string;
  /**
   * This app's own views folder, versions/<version>/<app>/views; shared views (layout, error,
   * debug) are found after it. The version shown in every page header is read from it.
   */
  views: string;
  /** Log one line per request to stdout. */
  log?: boolean;
  /** Idle lifetime of a signed-in session, in milliseconds. */
  sessionTtlMs?: number;
  /**
   * The JSON body of an error no route answered itself (a body too large to read, a full
   * store, a bug), for callers that do not ask for HTML; its `error` also names the error on
   * the HTML page. Default: `{ error: <HTTP status, snake_case>, error_description }`.
   */
  errorBody?: (status: number, description: string) => { error: string; [name: string]: unknown };
  /** Clock, replaceable in tests. */
  now?: () => number;
}

export interface LabApp {
  app: Express;
  sessions: ExpiringSessionStore;
  /** Register the debug pages; call once the app knows what storage it has. */
  debug(state: (req: Request) => DebugState): void;
  /** Add the not-found and error handlers; call after every route. */
  finish(): Express;
  close(): void;
}

export function createApp(options: AppOptions): LabApp {
  const { role } = options;
  const app = express();
  const sessionTtlMs = options.sessionTtlMs ?? 60 * 60_000;
  const sessions = new ExpiringSessionStore({
    ttlMs: sessionTtlMs,
    now: options.now,
  });
  const errorBody = options.errorBody ?? httpErrorBody;

  app.disable('x-powered-by');
  app.set('view engine', 'ejs');
  app.set('views', [options.views, path.join(sharedDir, 'views')]);
  app.locals.role = role;
  app.locals.appName = appNames[role];
  app.locals.version = path.basename(path.resolve(options.views, '..', '..'));
  app.locals.baseUrl = options.baseUrl;

  if (options.log) app.use(requestLog());

  app.use((_req, res, next) => {
    // Nobody may frame the lab's pages: clickjacking a login or consent page is an attack on
    // the user (RFC 9700 §4.16).
    res.set('X-Frame-Options', 'DENY');
    res.set('Content-Security-Policy', "frame-ancestors 'none'");
    // Codes and states travel in URLs: no page tells another site where it came from
    // (RFC 9700 §4.2.4).
    res.set('Referrer-Policy', 'no-referrer');
    next();
  });
  app.use(onlyOwnHost(options.baseUrl));

  app.use('/static', express.static(path.join(sharedDir, 'public'), { maxAge: 0 }));
  app.use(express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 100 }));

  app.use(
    session({
      // Cookies ignore ports: localhost:9000 and localhost:9001 share one cookie jar, so each
      // app needs its own cookie name or they would overwrite each other's session.
      name: `${role}.sid`,
      secret: randomBytes(32).toString('hex'),
      store: sessions,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: sessionTtlMs },
    }),
  );

  return {
    app,
    sessions,
    debug(state) {
      app.use(debugRoutes(state, sessions));
    },
    finish() {
      app.use((req, res) => {
        res.status(404).render('error', {
          title: 'Not found',
          error: 'not_found',
          description: `There is no page at ${req.method} ${req.path} on the ${appNames[role]}.`,
        });
      });
      app.use(errorHandler(role, errorBody));
      return app;
    },
    close() {
      sessions.close();
    },
  };
}

/**
 * Answer only requests addressed to this app by its loopback name and port. A web page on
 * another site can point a DNS name it controls at 127.0.0.1 (DNS rebinding) and then read
 * this app's pages as its own origin, /debug/state.json and its secrets included; the Host
 * header it sends then names its own site, so such requests end here with a 400. An
 * absolute-form request target (GET http://host/path) must name this app too, and is then
 * treated as its path, so nothing later builds a URL from a foreign host.
 */
function onlyOwnHost(baseUrl: string) {
  const { port } = new URL(baseUrl);
  const allowed = new Set(['localhost', '127.0.0.1', '[::1]'].map((name) => `${name}:${port}`));
  const ours = (host: string | undefined) => allowed.has(host?.toLowerCase() ?? '');
  return (req: Request, res: Response, next: NextFunction) => {
    if (ours(req.headers.host) && req.url.startsWith('/')) return next();
    const target = URL.parse(req.url);
    if (ours(req.headers.host) && target?.protocol === 'http:' && ours(target.host)) {
      req.url = req.originalUrl = `${target.pathname}${target.search}`;
      return next();
    }
    res.status(400).type('text/plain');
    res.send(`This lab app answers only to http://localhost:${port} (or 127.0.0.1, [::1]).\n`);
  };
}

function requestLog() {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const location = res.get('Location');
      const to = location ? ` -> ${location}` : '';
      console.log(`${req.method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms${to}`);
    });
    next();
  };
}

// Anything thrown and not handled by a route ends here. Client mistakes (a malformed body,
// say) keep their 4xx status, and a full store its 503; anything else is our bug: a generic
// 500 page, and the stack trace goes to the log only, never to the browser.
function errorHandler(role: AppRole, errorBody: NonNullable<AppOptions['errorBody']>) {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = httpStatusOf(err);
    if (status === 500) console.error(`[${role}] ${req.method} ${req.originalUrl}`, err);
    const description =
      status === 503
        ? `The lab is out of room for this right now: ${(err as Error).message} Try again later.`
        : status < 500
          ? // Not the parser's own message: it may quote the request back (a JSON error does).
            `The request could not be read: ${STATUS_CODES[status] ?? 'bad request'}.`
          : 'Something went wrong inside the lab. The details are in the terminal running it.';
    const body = errorBody(status, description);
    // Browsers ask for text/html by name and get a page; back-channel callers (fetch, curl,
    // another server) get JSON.
    if (!req.get('accept')?.includes('text/html')) {
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
      res.status(status).json(body);
      return;
    }
    res.status(status).render('error', { title: 'Error', error: body.error, description });
  };
}

function httpStatusOf(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown })?.status;
  if (status === 503) return 503;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

/** `{ error: "payload_too_large", error_description }`: the HTTP status, as an error code. */
function httpErrorBody(status: number, description: string) {
  const error = (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '_');
  return { error, error_description: description };
}
