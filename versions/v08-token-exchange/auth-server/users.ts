// The users (resource owners) the AS knows. Passwords in clear text because this is a lab:
// the debug page shows them so you can log in. A real AS stores slow salted hashes.

import { safeEqual } from './safe-equal.ts';

export interface User {
  username: string;
  password: string;
  name: string;
  /** OpenID Connect Core §5.1: released with the `email` scope. */
  email: string;
}

export function createUsers(): Map<string, User> {
  const users: User[] = [
    { username: 'user0', password: 'password0', name: 'Ada Lovelace', email: 'ada@example.com' },
    { username: 'user1', password: 'password1', name: 'Alan Turing', email: 'alan@example.com' },
  ];
  return new Map(users.map((user) => [user.username, user]));
}

/** The user whose password matches, else undefined. Compares in constant time. */
export function checkPassword(
  users: Map<string, User>,
  username: string,
  password: string,
): User | undefined {
  const user = users.get(username);
  // Compare even for unknown users, so timing does not reveal which usernames exist.
  const matches = safeEqual(password, user?.password ?? '');
  return matches && user ? user : undefined;
}
