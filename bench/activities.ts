// The bench's only activity: does nothing, so the ceiling measures Temporal and the SDK, not our code.
export const benchActivities = {
  async benchNoop(): Promise<void> {
    return;
  },
};
