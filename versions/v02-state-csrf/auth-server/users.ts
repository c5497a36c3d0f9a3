// The users (resource owners) the AS knows. Passwords in clear text because this is a lab:
// the debug page shows them so you can log in. A real AS stores slow salted hashes.

import { createHash, timingSafeEqual } from 'node:crypto';

export interface User {
  username: string;
  password: string;
  name: string;
}

export function createUsers(): Map<string, User> {
  const users: User[] = [
    { username: 'user0', password: 'password0', name: 'Ada Lovelace' },
    { username: 'user1', password: 'password1', name: 'Alan Turing' },
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
  // Hash both sides so the comparison takes the same time whatever the lengths, and compare
  // even for unknown users so timing does not reveal which usernames exist.
  const given = createHash('sha256').update(password).digest();
  const expected = createHash('sha256')
    .update(user?.password ?? '')
    .digest();
  return timingSafeEqual(given, expected) && user ? user : undefined;
}
