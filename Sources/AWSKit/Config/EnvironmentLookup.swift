extension [String: String] {
    /// The value of `key`, treating an empty string as unset as the AWS SDKs do.
    func nonEmpty(_ key: String) -> String? {
        guard let value = self[key], !value.isEmpty else { return nil }
        return value
    }
}
