// Express bootstrap shared by every app of every version: views, CSS, sessions, request
// log, debug pages, not-found and error pages. Nothing OAuth-specific lives here.

import { randomBytes } from 'node:crypto';
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
  /** Idle lifetime of a session, in milliseconds. */
  sessionTtlMs?: number;
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
  const sessions = new ExpiringSessionStore(options.sessionTtlMs ?? 60 * 60_000, options.now);

  app.disable('x-powered-by');
  app.set('view engine', 'ejs');
  app.set('views', [options.views, path.join(sharedDir, 'views')]);
  app.locals.role = role;
  app.locals.appName = appNames[role];
  app.locals.version = path.basename(path.resolve(options.views, '..', '..'));
  app.locals.baseUrl = options.baseUrl;

  if (options.log) app.use(requestLog());

  // Nobody may frame the lab's pages: clickjacking a login or consent page is an attack on
  // the user (RFC 9700 §4.16).
  app.use((_req, res, next) => {
    res.set('X-Frame-Options', 'DENY');
    res.set('Content-Security-Policy', "frame-ancestors 'none'");
    next();
  });

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
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: options.sessionTtlMs ?? 60 * 60_000 },
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
      app.use(errorHandler(role));
      return app;
    },
    close() {
      sessions.close();
    },
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
// say) keep their 4xx status; anything else is our bug: a generic 500 page, and the stack
// trace goes to the log only, never to the browser.
function errorHandler(role: AppRole) {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = httpStatusOf(err);
    if (status >= 500) console.error(`[${role}] ${req.method} ${req.originalUrl}`, err);
    const description =
      status < 500
        ? `The request could not be read: ${(err as Error).message}`
        : 'Something went wrong inside the lab. The details are in the terminal running it.';
    const error = status < 500 ? 'invalid_request' : 'server_error';
    // Browsers ask for text/html by name and get a page; back-channel callers (fetch, curl,
    // another server) get RFC 6749 §5.2-shaped JSON.
    if (!req.get('accept')?.includes('text/html')) {
      res.set('Cache-Control', 'no-store');
      res.status(status).json({ error, error_description: description });
      return;
    }
    res.status(status).render('error', { title: 'Error', error, description });
  };
}

function httpStatusOf(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}
