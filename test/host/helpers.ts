import { EventType, EventTypeName, type HistoryEvent } from '../../local/host/history.js';

/**
 * A compact, readable form of a history event for comparisons with the durable-functions repository's test
 * histories (which fix event types, ids, names, and which task each completion refers to; not timestamps).
 */
export function brief(e: HistoryEvent): string {
  const name = EventTypeName[e.EventType] ?? String(e.EventType);
  switch (e.EventType) {
    case EventType.ExecutionStarted:
      return `${name} ${e.Name} ${e.Input ?? ''}`.trim();
    case EventType.TaskScheduled:
      return `${name}#${e.EventId} ${e.Name} ${e.Input ?? ''}`.trim();
    case EventType.SubOrchestrationInstanceCreated:
      return `${name}#${e.EventId} ${e.Name} ${e.InstanceId}`;
    case EventType.TimerCreated:
      return `${name}#${e.EventId}`;
    case EventType.TaskCompleted:
    case EventType.SubOrchestrationInstanceCompleted:
      return `${name}->${e.TaskScheduledId} ${e.Result ?? ''}`.trim();
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceFailed:
      return `${name}->${e.TaskScheduledId}`;
    case EventType.TimerFired:
      return `${name}->${e.TimerId}`;
    case EventType.EventRaised:
      return `${name} ${e.Name} ${e.Input ?? ''}`.trim();
    case EventType.ExecutionCompleted:
      return `${name} ${String(e.OrchestrationStatus)}`;
    default:
      return name;
  }
}

export function briefs(history: HistoryEvent[] | undefined): string[] {
  return (history ?? []).map(brief);
}

/** Only the scheduling and completion events, in order (what ids the host assigned and matched). */
export function tasks(history: HistoryEvent[] | undefined): string[] {
  return briefs(history).filter((b) => !/^(OrchestratorStarted|OrchestratorCompleted)/.test(b));
}
