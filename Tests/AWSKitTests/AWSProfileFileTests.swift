import AWSKit
import Testing

@Suite("Shared config and credentials file parsing")
struct AWSProfileFileTests {
    @Test func configFileNamesProfilesWithThePrefix() {
        let file = AWSProfileFile(parsing: """
            # leading comment
            ; another comment
            [default]
            region = eu-west-1

            [profile prod]
              region=us-east-2
            output   =   json

            [prod-typo]
            region = ap-south-1

            [sso-session corp]
            sso_region = us-east-1
            """, kind: .config)
        #expect(file.profiles == [
            "default": ["region": "eu-west-1"],
            "prod": ["region": "us-east-2", "output": "json"],
        ])
    }

    @Test func credentialsFileNamesProfilesWithoutThePrefix() {
        let file = AWSProfileFile(parsing: """
            [default]
            aws_access_key_id = AKIDDEFAULT
            [profile prod]
            aws_access_key_id = AKIDLITERAL
            [prod]
            aws_access_key_id = AKIDPROD
            """, kind: .credentials)
        #expect(file.properties(ofProfile: "default") == ["aws_access_key_id": "AKIDDEFAULT"])
        #expect(file.properties(ofProfile: "prod") == ["aws_access_key_id": "AKIDPROD"])
        #expect(file.properties(ofProfile: "profile prod") == ["aws_access_key_id": "AKIDLITERAL"])
        #expect(file.properties(ofProfile: "missing") == nil)
    }

    @Test func inlineCommentsNeedWhitespaceSoSecretsKeepTheirCharacters() {
        let file = AWSProfileFile(parsing: """
            [default] # the usual one
            aws_secret_access_key = abc#def;ghi   # rotated 2026-01
            aws_session_token = tok;en ; trailing
            empty = ; nothing here
            """, kind: .credentials)
        #expect(file.properties(ofProfile: "default") == [
            "aws_secret_access_key": "abc#def;ghi",
            "aws_session_token": "tok;en",
            "empty": "",
        ])
    }

    @Test func namesAreCaseInsensitiveAndLineEndingsMayBeCRLF() {
        let file = AWSProfileFile(parsing: "[default]\r\nAWS_Access_Key_ID = AKID\r\nRegion\t=\tus-west-2 \r\n", kind: .config)
        #expect(file.properties(ofProfile: "default") == ["aws_access_key_id": "AKID", "region": "us-west-2"])
    }

    @Test func indentedLinesAreSubPropertiesAndNeverOverrideTopLevelOnes() {
        let file = AWSProfileFile(parsing: """
            [default]
            region = us-east-1
            s3 =
              region = eu-west-1
              addressing_style = path
            role_arn = arn:aws:iam::123456789012:role/x
              region = ap-east-1
            """, kind: .config)
        #expect(file.properties(ofProfile: "default") == [
            "region": "us-east-1",
            "s3": "",
            "s3.region": "eu-west-1",
            "s3.addressing_style": "path",
            "role_arn": "arn:aws:iam::123456789012:role/x",
        ])
    }

    @Test func malformedLinesAreSkippedWithoutLosingTheRest() {
        let file = AWSProfileFile(parsing: """
            orphan = before any section
            [default
            region = nowhere
            []
            [default]
            this line has no equals sign
            = no name
            region = us-east-1
            """, kind: .config)
        #expect(file.profiles == ["default": ["region": "us-east-1"]])
    }
}
