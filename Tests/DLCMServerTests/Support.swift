import DLCMServer

enum APIConfigurationForTests {
    static var short: APIConfiguration {
        var c = APIConfiguration()
        c.keepAliveInterval = 0.05
        return c
    }
}
