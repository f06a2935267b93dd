"""Make LocalStack's gateway listen only where GATEWAY_LISTEN says (127.0.0.1 for the course).

LocalStack 4.14's twisted server drops the host of IPv4 addresses ("TODO: interface = host?") and so
listens on every interface even with GATEWAY_LISTEN=127.0.0.1:4566. AWS's endpoints are not the model here;
the course's rule is: servers a learner starts are reachable from their own machine only.
"""

from localstack.runtime import hooks


@hooks.on_infra_start()
def listen_on_configured_host_only():
    from rolo.serving.twisted import TwistedGateway
    from twisted.internet import endpoints, reactor, ssl

    from localstack import config
    from localstack.aws.serving.twisted import TLSMultiplexerFactory
    from localstack.runtime.server.twisted import TwistedRuntimeServer
    from localstack.utils.patch import Patch

    def register(self, gateway, listen, ssl_creds=None):
        site = TwistedGateway(gateway)
        protocol_factory = site
        if ssl_creds:
            cert_file_name, key_file_name = ssl_creds
            context_factory = ssl.DefaultOpenSSLContextFactory(key_file_name, cert_file_name)
            context_factory.getContext().use_certificate_chain_file(cert_file_name)
            protocol_factory = TLSMultiplexerFactory(context_factory, False, site)
        for host_and_port in listen:
            server_endpoint = (
                endpoints.TCP6ServerEndpoint
                if config.is_ipv6_address(host_and_port.host)
                else endpoints.TCP4ServerEndpoint
            )
            server_endpoint(reactor, host_and_port.port, interface=host_and_port.host).listen(protocol_factory)

    Patch.function(TwistedRuntimeServer.register, register, pass_target=False).apply()
