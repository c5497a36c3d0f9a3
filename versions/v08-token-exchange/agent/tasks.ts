// What the assistant can do for a user, and the least each task needs: the scope is all the
// agent asks for when it exchanges the user's token, whatever the user granted the client.

export interface Task {
  description: string;
  /** The one scope the task needs at the notes API. */
  scope: string;
  /** Whether the agent hands the reading to its sub-agent. */
  delegated: boolean;
}

export const TASKS: Record<string, Task> = {
  summarise: { description: 'Summarise my notes', scope: 'notes:read', delegated: false },
  'add-note': {
    description: 'Add a note reminding me to stretch',
    scope: 'notes:write',
    delegated: false,
  },
  'summarise-with-helper': {
    description: 'Summarise my notes, with a helper to read them',
    scope: 'notes:read',
    delegated: true,
  },
};

/** A summary a person can check against their notes page: no language model needed. */
export function summarise(notes: Array<{ text: string }>): string {
  if (notes.length === 0) return 'You have no notes.';
  const latest = notes[notes.length - 1]!.text;
  const words = notes.reduce((sum, note) => sum + note.text.split(/\s+/).length, 0);
  const count = notes.length === 1 ? '1 note' : `${notes.length} notes`;
  return `You have ${count}, ${words} words in all. The latest: “${latest}”`;
}
