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
// Known defect: a traced run does not replay on a restarted worker (queries fail, the run stalls;
// test/lifecycle/worker-crash.test.ts with the interceptors bundled). Until that is fixed, only
// workers with tracing switched on bundle this module (platform/temporal/bundle.ts).

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
        validateUpdate: (input, next) => (traced ? otelIn().validateUpdate(input, next) : next(input)),
        handleQuery: (input, next) => (traced ? otelIn().handleQuery(input, next) : next(input)),
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
