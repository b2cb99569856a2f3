namespace QuantGen.Tests;

/// <summary>Where the tests find their data: Debian packages installed by .ci/run, and the repo's own files.</summary>
internal static class TestPaths
{
    /// <summary>The ONNX backend test suite from Debian's libonnx-testdata.</summary>
    public const string OnnxTestData = "/usr/share/libonnx-testdata/data";

    /// <summary>Fashion-MNIST from Debian's dataset-fashion-mnist.</summary>
    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>The repository root (the folder holding QuantGen.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "QuantGen.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("QuantGen.sln not found above the test binaries.");
    }
}
