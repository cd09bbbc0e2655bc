// Workflow interceptors module (bundled with the workflows, see platform/temporal/bundle.ts): the
// Temporal OpenTelemetry workflow interceptors, switched on per run by a patch marker.
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { patched, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * Marks runs traced by the OpenTelemetry interceptors. Runs recorded without them must replay
 * without them: the interceptors add awaits (SDK flags decide, and old histories lack the flags)
 * that reorder commands, e.g. an Update's completion against a search-attribute upsert.
 */
export const OPENTELEMETRY_TRACING = 'opentelemetry-tracing';

/**
 * The OpenTelemetry workflow modules, loaded by traced runs only. In the worker's shared V8 context
 * every run that loads a module after it started evaluates its own copy: imported at the top,
 * OpenTelemetry (≈ 0.7 MB of code) was evaluated again for every run, traced or not, and its
 * objects kept in every cached workflow.
 */
function openTelemetry(): typeof OpenTelemetryWorkflow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above; the bundler still includes it
  return require('@temporalio/interceptors-opentelemetry/lib/workflow/index.js') as typeof OpenTelemetryWorkflow;
}

/**
 * Decided once per run when its main function starts; until then (a signal or update handled in
 * the run's first activation) and for older runs, every call passes straight through. Spans leave
 * the sandbox through the `exporter` sink, which the worker always registers (a no-op when
 * tracing is off), so the bundle is the same with and without tracing.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let traced = false;
  let inbound: OpenTelemetryWorkflow.OpenTelemetryInboundInterceptor | undefined;
  let outbound: OpenTelemetryWorkflow.OpenTelemetryOutboundInterceptor | undefined;
  let internals: OpenTelemetryWorkflow.OpenTelemetryInternalsInterceptor | undefined;
  const otelIn = () => (inbound ??= new (openTelemetry().OpenTelemetryInboundInterceptor)());
  const otelOut = () => (outbound ??= new (openTelemetry().OpenTelemetryOutboundInterceptor)());
  return {
    inbound: [
      {
        execute(input, next) {
          traced = patched(OPENTELEMETRY_TRACING);
          if (traced) internals = new (openTelemetry().OpenTelemetryInternalsInterceptor)();
          return traced ? otelIn().execute(input, next) : next(input);
        },
        handleSignal: (input, next) => (traced ? otelIn().handleSignal(input, next) : next(input)),
        handleUpdate: (input, next) => (traced ? otelIn().handleUpdate(input, next) : next(input)),
        // Queries and Update validators are not run again on replay, so they must not trace: a span
        // draws its ids from the workflow's seeded random source, and a draw that replay does not
        // repeat changes every later uuid4() (child ids, IviReferenceIds), so a run that answered
        // a query fails to replay on another worker (temporalio/sdk-typescript#2023).
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (traced ? otelOut().scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (traced ? otelOut().scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (traced ? otelOut().startChildWorkflowExecution(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced ? otelOut().signalWorkflow(input, next) : next(input)),
        continueAsNew: (input, next) => (traced ? otelOut().continueAsNew(input, next) : next(input)),
        getLogAttributes: (input, next) => (traced ? otelOut().getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [{ dispose: (input, next) => (internals ? internals.dispose(input, next) : next(input)) }],
  };
};
