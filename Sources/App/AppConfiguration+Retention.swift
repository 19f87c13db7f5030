import Operations

extension AppConfiguration {
    /// The retention of the operational tables (`HUBSIGNAL_RETENTION_*`), for `hubsignal retention` and `serve`.
    public var retention: Retention.Configuration {
        var retention = Retention.Configuration()
        retention.rejections = retentionRejections
        retention.delivered = retentionDelivered
        return retention
    }
}
