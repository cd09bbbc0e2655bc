// Workflow interceptors module (bundled with the workflows, see platform/temporal/bundle.ts): the
// Temporal OpenTelemetry workflow interceptors, switched on per run by a patch marker.
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { patched, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * Marks runs traced by the OpenTelemetry interceptors. Runs recorded without them must replay
 * without them: the interceptors add awaits (SDK flags decide, and old histories lack the flags)
 * that reorder commands, e.g. an Update's completion against a search-attribute upsert.
 */
export const OPENTELEMETRY_TRACING = 'opentelemetry-tracing';

/**
 * Decided once per run when its main function starts; until then (a signal or update handled in
 * the run's first activation) and for older runs, every call passes straight through. Spans leave
 * the sandbox through the `exporter` sink, which the worker always registers (a no-op when
 * tracing is off), so the bundle is the same with and without tracing.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let traced = false;
  let inbound: OpenTelemetryInboundInterceptor | undefined;
  let outbound: OpenTelemetryOutboundInterceptor | undefined;
  const otelIn = () => (inbound ??= new OpenTelemetryInboundInterceptor());
  const otelOut = () => (outbound ??= new OpenTelemetryOutboundInterceptor());
  return {
    inbound: [
      {
        execute(input, next) {
          traced = patched(OPENTELEMETRY_TRACING);
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
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
