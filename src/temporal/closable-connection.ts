// A client Connection that can be closed while a call is being retried. The SDK's own retry interceptor retries a
// failed call (UNAVAILABLE, RESOURCE_EXHAUSTED...) from a timer that outlives the caller: a call abandoned at its
// deadline, or one in flight at shutdown, retries after `close()` on a channel that is shut down, and grpc-js throws
// "Channel has been shut down" from that timer, an uncaught exception that ends the process. This interceptor keeps
// the SDK's retry policy (which codes, how many attempts, what backoff) and, when the connection closes, ends every
// call waiting for a retry with CANCELLED at once.
import {
  InterceptingCall,
  type InterceptingListener,
  type Interceptor,
  Metadata,
  RequesterBuilder,
  type StatusObject,
  status as grpcStatus,
} from '@grpc/grpc-js';
import { Connection, type ConnectionOptions, defaultGrpcRetryOptions } from '@temporalio/client';

function statusOf(code: grpcStatus, details: string): StatusObject {
  return { code, details, metadata: new Metadata() };
}

class ClosableRetry {
  private closed = false;
  /** Calls waiting for their next attempt: run at once (to end) when the connection closes. */
  private readonly waiting = new Map<NodeJS.Timeout, () => void>();
  private readonly policy = defaultGrpcRetryOptions();

  readonly interceptor: Interceptor = (callOptions, nextCall) => {
    let request: unknown;
    const requester = new RequesterBuilder()
      .withStart((metadata, listener: InterceptingListener, next) => {
        let attempt = 1;
        let response: { message: unknown } | undefined;
        const finish = (status: StatusObject): void => {
          if (response) listener.onReceiveMessage(response.message);
          listener.onReceiveStatus(status);
        };
        const retry = (): void => {
          if (this.closed) return finish(statusOf(grpcStatus.CANCELLED, 'the Temporal connection was closed'));
          attempt++;
          response = undefined;
          let call: ReturnType<typeof nextCall>;
          try {
            call = nextCall(callOptions);
          } catch (error) {
            return finish(statusOf(grpcStatus.UNAVAILABLE, (error as Error).message));
          }
          call.start(metadata, { onReceiveMessage: (message) => (response = { message }), onReceiveStatus });
          call.sendMessage(request);
          call.halfClose();
        };
        const onReceiveStatus = (status: StatusObject): void => {
          if (this.closed || !this.policy.retryableDecider(attempt, status)) return finish(status);
          const timer = setTimeout(
            () => {
              this.waiting.delete(timer);
              retry();
            },
            this.policy.delayFunction(attempt, status),
          );
          this.waiting.set(timer, retry);
        };
        next(metadata, {
          onReceiveMetadata: (received: Metadata) => listener.onReceiveMetadata(received),
          onReceiveMessage: (message: unknown) => (response = { message }),
          onReceiveStatus,
        });
      })
      .withSendMessage((message, next) => {
        request = message;
        next(message);
      })
      .build();
    return new InterceptingCall(nextCall(callOptions), requester);
  };

  close(): void {
    this.closed = true;
    for (const [timer, retry] of this.waiting) {
      clearTimeout(timer);
      retry();
    }
    this.waiting.clear();
  }
}

/** Connection.connect with the SDK's retry policy, safe to close while a retry is pending. */
export async function connectClosable(options: ConnectionOptions): Promise<Connection> {
  const retry = new ClosableRetry();
  const connection = await Connection.connect({ ...options, interceptors: [retry.interceptor] });
  const close = connection.close.bind(connection);
  connection.close = async () => {
    retry.close();
    await close();
  };
  return connection;
}
