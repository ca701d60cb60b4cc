import AWSKit
import Foundation
import Testing

@Suite("Region, profile and endpoint resolution")
struct AWSConfigurationTests {
    let files = AWSSharedFiles(
        configPath: "/home/app/.aws/config",
        configText: """
            [default]
            region = eu-west-1
            [profile prod]
            region = us-east-2
            [profile noregion]
            output = json
            """,
        credentialsPath: "/home/app/.aws/credentials",
        credentialsText: nil
    )

    @Test("region precedence: AWS_REGION, AWS_DEFAULT_REGION, then the profile", arguments: [
        (["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "sa-east-1"], "ap-south-1"),
        (["AWS_REGION": "", "AWS_DEFAULT_REGION": "sa-east-1"], "sa-east-1"),
        (["AWS_DEFAULT_REGION": "sa-east-1", "AWS_PROFILE": "prod"], "sa-east-1"),
        (["AWS_PROFILE": "prod"], "us-east-2"),
        ([:], "eu-west-1"),
        (["AWS_PROFILE": ""], "eu-west-1"),
    ] as [([String: String], String)])
    func regionPrecedence(environment: [String: String], expected: String) throws {
        #expect(try AWSConfiguration.resolve(environment: environment, files: files).region == expected)
    }

    @Test func profileDefaultsToDefault() throws {
        #expect(try AWSConfiguration.resolve(environment: [:], files: files).profile == "default")
        #expect(try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "prod"], files: files).profile == "prod")
    }

    @Test func missingRegionIsOneLineNamingWhatToSet() {
        #expect(throws: AWSConfigurationError.missingRegion(profile: "noregion", configPath: "/home/app/.aws/config")) {
            try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "noregion"], files: files)
        }
        let error = AWSConfigurationError.missingRegion(profile: "noregion", configPath: "/home/app/.aws/config")
        #expect(!error.description.contains("\n"))
        #expect(error.description.contains("AWS_REGION"))
        #expect(error.description.contains("\"noregion\""))
        #expect(error.description.contains("/home/app/.aws/config"))
        #expect(throws: AWSConfigurationError.missingRegion(profile: "default", configPath: nil)) {
            try AWSConfiguration.resolve(environment: [:], files: .none)
        }
    }

    @Test func regionMustBeARegionName() {
        #expect(throws: AWSConfigurationError.invalidRegion("us east 1", source: "AWS_REGION")) {
            try AWSConfiguration.resolve(environment: ["AWS_REGION": "us east 1"], files: .none)
        }
        #expect(throws: AWSConfigurationError.self) { try AWSConfiguration(region: "https://evil.example/") }
    }

    @Test func sharedFilePathsFollowHomeAndOverrides() {
        #expect(AWSSharedFiles.paths(environment: ["HOME": "/home/app"]) == ("/home/app/.aws/config", "/home/app/.aws/credentials"))
        #expect(AWSSharedFiles.paths(environment: [
            "HOME": "/home/app", "AWS_CONFIG_FILE": "/etc/orderflow/aws-config", "AWS_SHARED_CREDENTIALS_FILE": "~/creds",
        ]) == ("/etc/orderflow/aws-config", "/home/app/creds"))
        #expect(AWSSharedFiles.paths(environment: [:]) == (nil, nil))
        #expect(AWSSharedFiles.paths(environment: ["AWS_CONFIG_FILE": "/abs/config"]) == ("/abs/config", nil))
    }

    @Test func loadReadsExistingFilesAndTreatsMissingOnesAsEmpty() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("awskit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configPath = directory.appendingPathComponent("config").path
        try "[profile ci]\nregion = eu-north-1\n".write(toFile: configPath, atomically: true, encoding: .utf8)

        let files = try AWSSharedFiles.load(environment: [
            "AWS_CONFIG_FILE": configPath,
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("absent").path,
        ])
        #expect(files.config.properties(ofProfile: "ci") == ["region": "eu-north-1"])
        #expect(files.credentials.profiles.isEmpty)
        #expect(try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "ci"], files: files).region == "eu-north-1")

        // A directory where the file should be exists but cannot be read as text.
        #expect(throws: AWSConfigurationError.self) {
            try AWSSharedFiles.load(environment: ["AWS_CONFIG_FILE": directory.path])
        }
    }

    @Test("public endpoints by service", arguments: [
        (AWSService.dynamoDB, "https://dynamodb.eu-west-1.amazonaws.com"),
        (AWSService.s3, "https://s3.eu-west-1.amazonaws.com"),
        (AWSService.sqs, "https://sqs.eu-west-1.amazonaws.com"),
        (AWSService.sns, "https://sns.eu-west-1.amazonaws.com"),
        (AWSService.kinesis, "https://kinesis.eu-west-1.amazonaws.com"),
        (AWSService.cloudWatch, "https://monitoring.eu-west-1.amazonaws.com"),
    ])
    func defaultEndpoints(service: AWSService, expected: String) throws {
        let configuration = try AWSConfiguration.resolve(environment: ["AWS_REGION": "eu-west-1"], files: .none)
        #expect(configuration.endpoint(for: service).absoluteString == expected)
        #expect(!configuration.hasEndpointOverride(for: service))
    }

    @Test func chinaRegionsUseTheirOwnDomain() throws {
        let configuration = try AWSConfiguration(region: "cn-north-1")
        #expect(configuration.endpoint(for: .sqs).absoluteString == "https://sqs.cn-north-1.amazonaws.com.cn")
    }

    @Test func serviceSpecificEndpointWinsOverTheGlobalOne() throws {
        let configuration = try AWSConfiguration.resolve(environment: [
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://localhost:5000",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000",
            "AWS_ENDPOINT_URL_CLOUDWATCH": "http://metrics.internal:9000",
        ], files: .none)
        #expect(configuration.endpoint(for: .dynamoDB).absoluteString == "http://localhost:8000")
        #expect(configuration.endpoint(for: .cloudWatch).absoluteString == "http://metrics.internal:9000")
        #expect(configuration.endpoint(for: .s3).absoluteString == "http://localhost:5000")
        #expect(configuration.endpoint(for: .sqs).absoluteString == "http://localhost:5000")
    }

    @Test func serviceIDsBecomeVariableSuffixes() throws {
        let beanstalk = AWSService(id: "Elastic Beanstalk", endpointPrefix: "elasticbeanstalk", signingName: "elasticbeanstalk")
        #expect(beanstalk.environmentSuffix == "ELASTIC_BEANSTALK")
        #expect([AWSService.dynamoDB, .s3, .sqs, .sns, .kinesis, .cloudWatch].map(\.environmentSuffix)
            == ["DYNAMODB", "S3", "SQS", "SNS", "KINESIS", "CLOUDWATCH"])
        let configuration = try AWSConfiguration.resolve(environment: [
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": "http://localhost:7000",
        ], files: .none)
        #expect(configuration.endpoint(for: beanstalk).absoluteString == "http://localhost:7000")
    }

    @Test func endpointOverridesCanBeIgnoredWithoutUnsettingThem() throws {
        let configuration = try AWSConfiguration.resolve(environment: [
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://localhost:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        ], files: .none)
        #expect(configuration.endpoint(for: .sqs).absoluteString == "https://sqs.us-east-1.amazonaws.com")
    }

    @Test func invalidEndpointNamesTheVariable() {
        let error = AWSConfigurationError.invalidEndpointURL(variable: "AWS_ENDPOINT_URL_SQS", value: "localhost:4566")
        #expect(throws: error) {
            try AWSConfiguration.resolve(environment: ["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SQS": "localhost:4566"], files: .none)
        }
        #expect(error.description.contains("AWS_ENDPOINT_URL_SQS"))
        #expect(!error.description.contains("\n"))
    }

    @Test func resourceURLsFollowTheOverrideAndKeepTheirPath() throws {
        let queueURL = try #require(URL(string: "https://sqs.us-east-1.amazonaws.com/123456789012/HighValueQueue"))
        let local = try AWSConfiguration.resolve(
            environment: ["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566"], files: .none
        )
        #expect(local.resourceURL(queueURL, for: .sqs).absoluteString == "http://127.0.0.1:4566/123456789012/HighValueQueue")

        let real = try AWSConfiguration(region: "us-east-1")
        #expect(real.resourceURL(queueURL, for: .sqs) == queueURL)

        let withQuery = try #require(URL(string: "https://example.amazonaws.com:443/a%20b/c?x=1"))
        let onto = try #require(URL(string: "https://proxy.internal:8443"))
        #expect(AWSConfiguration.rewrite(withQuery, onto: onto).absoluteString == "https://proxy.internal:8443/a%20b/c?x=1")
        let noPort = try #require(URL(string: "http://moto"))
        #expect(AWSConfiguration.rewrite(withQuery, onto: noPort).absoluteString == "http://moto/a%20b/c?x=1")
    }
}
