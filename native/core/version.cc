// Keeps vs_core non-empty before the first core sources land.
namespace vs {
extern const char kCoreVersion[] = "1";
}
