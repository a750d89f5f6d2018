/** A background pass run at most once at a time; `stop` refuses new passes and waits for the one running. */
export interface SingleFlight {
  /** Runs the pass now, or once more right after the one running. */
  poll(): void;
  stopped(): boolean;
  stop(): Promise<void>;
}

/** Wraps `pass` so that polls never overlap and a poll during a pass is not lost; a failure goes to `onError`. */
export function singleFlight(pass: () => Promise<void>, onError: (error: Error) => void): SingleFlight {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const poll = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((error: unknown) => onError(error as Error))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          poll();
        }
      });
  };
  return {
    poll,
    stopped: () => stopped,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}
