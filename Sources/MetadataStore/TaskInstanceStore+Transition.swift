extension TaskInstanceStore {
    /// Applies a transition as the compare-and-set it describes; false when the instance had moved on.
    public func update(_ key: TaskKey, _ transition: TaskInstanceTransition) throws -> Bool {
        try updateTaskInstance(key, expecting: transition.expecting, tryNumber: transition.tryNumber, set: transition.fields)
    }
}
