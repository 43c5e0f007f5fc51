// A client connection that counts every gRPC attempt and its status per method, inside the SDK's retry interceptor,
// so the report can say how many opens the server refused (RESOURCE_EXHAUSTED: "limit on number of concurrent
// in-flight updates has been reached") and the client retried after a back-off.
import { InterceptingCall, type Interceptor, status as grpcStatus } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

export class GrpcCounter {
  /** method -> status name -> count */
  readonly counts: Record<string, Record<string, number>> = {};

  reset(): void {
    for (const key of Object.keys(this.counts)) delete this.counts[key];
  }

  interceptor(): Interceptor {
    return (options, nextCall) =>
      new InterceptingCall(nextCall(options), {
        start: (metadata, _listener, next) => {
          const method = String(options.method_definition.path).split('/').pop() ?? '?';
          next(metadata, {
            onReceiveStatus: (status, nextStatus) => {
              const name = grpcStatus[status.code] ?? String(status.code);
              const perMethod = (this.counts[method] ??= {});
              perMethod[name] = (perMethod[name] ?? 0) + 1;
              nextStatus(status);
            },
          });
        },
      });
  }
}

export async function countingConnection(address: string, counter: GrpcCounter): Promise<Connection> {
  return Connection.connect({
    address,
    // The SDK's default retry interceptor outside, ours inside it: we see every attempt.
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), counter.interceptor()],
  });
}
