import Foundation
import SecretMasking

/// The lake's S3 credentials as the process was started with them (`SecretMasker.lakeCredentialVariables`). They
/// leave the environment with the other secrets (`SchedulerSetup.protectSecrets`); the scheduler hands them to the
/// transform tasks only.
enum LakeCredentials {
    private static let launch = LockedValue<[String: String]?>(nil)

    /// Takes them from the environment, once: call before the environment is scrubbed.
    static func remember() {
        let found = ProcessInfo.processInfo.environment.filter { SecretMasker.lakeCredentialVariables.contains($0.key) }
        launch.update { $0 = $0 ?? found }
    }

    /// The remembered credentials, or the environment's when nothing scrubbed them.
    static var environment: [String: String] {
        launch.get() ?? ProcessInfo.processInfo.environment.filter { SecretMasker.lakeCredentialVariables.contains($0.key) }
    }
}
