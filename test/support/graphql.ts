/** Plain GraphQL over HTTP for tests (no server module imported: a test of its own generated server loads no example types). */

/** One GraphQL POST, with `Authorization: Bearer <token>` when a token is given. */
export async function postGraphql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}
