// A person as the API names them to a school (backend/accounts/people.py): the name, then the role there.

/** "王芳（食堂负责人）", the name alone without a role, '' without a name. */
export function personText(name: string | null | undefined, roleLabel: string | null | undefined): string {
  if (!name) return ''
  return roleLabel ? `${name}（${roleLabel}）` : name
}
