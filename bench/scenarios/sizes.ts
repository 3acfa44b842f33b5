/** How big each scenario is, full and --quick. */
export interface Sizes {
  readonly stepSeconds: number;
  readonly drainMs: number;
  /** Scenario 1: idle subscriber levels. */
  readonly capacityLevels: readonly number[];
  /** Scenario 2: subscriber counts and the delivery rates (deliveries/s) stepped through at each. */
  readonly fanoutSubscribers: readonly number[];
  readonly fanoutDeliveryRates: readonly number[];
  /** The delivery rate CPU per delivery is compared at (the same for every peer). */
  readonly referenceDeliveryRate: number;
  /** Scenario 3. */
  readonly manyTopics: number;
  readonly subscribersPerTopic: number;
  readonly manyTopicsRates: readonly number[];
  readonly manyTopicsReferenceRate: number;
  /** Scenario 5: subscribers split over two instances, at this event rate. */
  readonly crossSubscribers: number;
  readonly crossRate: number;
}

export const FULL: Sizes = {
  stepSeconds: 5,
  drainMs: 10_000,
  capacityLevels: [1000, 5000, 10_000],
  fanoutSubscribers: [1000, 5000],
  fanoutDeliveryRates: [10_000, 20_000, 40_000, 80_000],
  referenceDeliveryRate: 10_000,
  manyTopics: 1000,
  subscribersPerTopic: 5,
  manyTopicsRates: [100, 500, 1000, 2000],
  manyTopicsReferenceRate: 500,
  crossSubscribers: 1000,
  crossRate: 10,
};

export const QUICK: Sizes = {
  stepSeconds: 2,
  drainMs: 5000,
  capacityLevels: [200, 400],
  fanoutSubscribers: [400],
  fanoutDeliveryRates: [10_000],
  referenceDeliveryRate: 10_000,
  manyTopics: 60,
  subscribersPerTopic: 5,
  manyTopicsRates: [200],
  manyTopicsReferenceRate: 200,
  crossSubscribers: 200,
  crossRate: 10,
};
