import Foundation

/// Linear warm-up from 0 to `peak`, then cosine decay to `floor` at `totalSteps`.
///
///     let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 300, totalSteps: 15_625, floor: 1e-4)
///     schedule.learningRate(atStep: 0)   // 1e-3 / 300
public struct LearningRateSchedule: Codable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floor: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, floor: Float) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
    }

    /// The learning rate of step `step` (0-based): `peak · (step + 1) / warmupSteps` during the warm-up,
    /// then `floor + (peak − floor) · (1 + cos(π · progress)) / 2`, and `floor` after `totalSteps`.
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let decaySteps = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(decaySteps), 1)
        return floor + (peak - floor) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}
