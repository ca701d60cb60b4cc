import OrderFlowAWS

/// The tests create their resources in moto with the same code `orderflow aws setup` uses.
public typealias MotoResources = AWSResourceSetup
