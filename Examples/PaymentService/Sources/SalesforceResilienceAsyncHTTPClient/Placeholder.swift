import SalesforceResilience
import AsyncHTTPClient
enum Placeholder {}
