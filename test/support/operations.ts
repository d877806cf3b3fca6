/** The contract's sync operations, every field selected (the raw GraphQL the tests send). */
export const SYNC_PULL = `query Pull($entity: String!, $since: DateTime, $limit: Int, $cursor: String) {
  syncPull(entity: $entity, since: $since, limit: $limit, cursor: $cursor) { items lastSyncAt hasMore cursor }
}`;

export const SYNC_PUSH = `mutation Push($entity: String!, $items: [JSON!]!) {
  syncPush(entity: $entity, items: $items) {
    clientId id success errorCode errorMessage version updatedAt
    conflict { serverData clientData serverVersion resolutionSuggested }
  }
}`;
