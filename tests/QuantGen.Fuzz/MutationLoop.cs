using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace QuantGen.Fuzz;

/// <summary>
/// A deterministic mutation fuzzer in .NET, for machines without afl-fuzz: the same harness entry points as the
/// SharpFuzz modes, seeded from a corpus folder, for a fixed time. Mutations: bit flips, interesting bytes, protobuf
/// varints of boundary values (2^31, 2^32 + 1, 2^40, −1, INT64_MAX …) written over the input, and for text inputs
/// (artifacts) numbers replaced by boundary values; chunks deleted, duplicated or spliced from another seed. Without
/// coverage feedback it keeps, as new seeds, the mutants whose outcome (QG code and message start) it has not seen:
/// a cheap novelty signal that walks past the first check an input fails. A finding (QG9999, a generator exception,
/// code that does not compile, any other exception, or an input taking over 10 s or allocating over 1 GiB) is saved
/// under <c>fuzz-findings/</c> with its stack, and the loop goes on.
/// </summary>
public static class MutationLoop
{
    public sealed record Report(string Harness, long Executions, int Findings, int Outcomes, TimeSpan Elapsed);

    private static readonly long[] Boundaries =
    [
        0, 1, 2, 3, 7, 8, 15, 16, 255, 256, 65535, 65536, (1L << 30) - 1, 1L << 30, int.MaxValue - 1, int.MaxValue, 1L << 31, (1L << 31) + 1,
        uint.MaxValue, 1L << 32, (1L << 32) + 1, 1L << 40, long.MaxValue, -1, -2, int.MinValue, long.MinValue,
    ];

    public static Report Run(string name, Action<byte[]> harness, string corpus, TimeSpan duration, int seed, string findingsDir, TextWriter log)
    {
        var random = new Random(seed);
        var seeds = Directory.GetFiles(corpus).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        if (seeds.Count == 0) throw new InvalidOperationException($"the corpus '{corpus}' is empty");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        long executions = 0;
        int findings = 0;
        bool text = name == "artifact";
        while (clock.Elapsed < duration)
        {
            var input = Mutate(random, seeds[random.Next(seeds.Count)], seeds, text);
            var outcome = FuzzOutcome.Of(harness, input);
            executions++;
            string? problem = outcome.IsFinding ? outcome.Detail
                : outcome.Elapsed > TimeSpan.FromSeconds(10) ? $"took {outcome.Elapsed}"
                : outcome.AllocatedBytes > 1L << 30 ? $"allocated {outcome.AllocatedBytes >> 20} MiB"
                : null;
            if (problem is not null)
            {
                findings++;
                Directory.CreateDirectory(findingsDir);
                var id = Convert.ToHexStringLower(SHA256.HashData(input))[..16];
                File.WriteAllBytes(Path.Combine(findingsDir, $"{name}-{id}.bin"), input);
                File.WriteAllText(Path.Combine(findingsDir, $"{name}-{id}.txt"), problem);
                log.WriteLine($"FINDING {name}-{id}: {problem.Split('\n')[0]}");
                continue;
            }
            // The outcome's code and the first words of its message after the file name (generator messages all start
            // with the artifact's path), digits dropped so that sizes do not count as new outcomes.
            var detail = outcome.Detail.Split(": ", 2) is [_, var rest] ? rest : outcome.Detail;
            var key = outcome.Kind + ":" + new string(detail.Where(c => !char.IsDigit(c)).Take(48).ToArray());
            if (seen.Add(key) && seeds.Count < 4096) seeds.Add(input);
            if (executions % 500 == 0) log.WriteLine($"{name}: {executions} runs, {seen.Count} outcomes, {findings} findings, {clock.Elapsed:hh\\:mm\\:ss}");
        }
        log.WriteLine($"{name}: done, {executions} runs in {clock.Elapsed:hh\\:mm\\:ss}, {seen.Count} distinct outcomes, {findings} findings");
        return new Report(name, executions, findings, seen.Count, clock.Elapsed);
    }

    public static byte[] Mutate(Random random, byte[] seed, List<byte[]> seeds, bool text)
    {
        var data = new List<byte>(seed);
        for (int round = random.Next(1, 4); round > 0; round--)
        {
            if (data.Count == 0) { data.Add((byte)random.Next(256)); continue; }
            int at = random.Next(data.Count);
            switch (random.Next(text ? 7 : 6))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = (byte)new[] { 0, 1, 0x7F, 0x80, 0xFF, 0xFE, 0x40 }[random.Next(7)];
                    break;
                case 2:
                {
                    // A varint of a boundary value over the bytes at 'at' (protobuf integers: dims, attributes).
                    var varint = Varint(Boundaries[random.Next(Boundaries.Length)]);
                    for (int i = 0; i < varint.Length && at + i < data.Count; i++) data[at + i] = varint[i];
                    break;
                }
                case 3:
                    data.RemoveRange(at, Math.Min(data.Count - at, random.Next(1, 32)));
                    break;
                case 4:
                {
                    int length = Math.Min(data.Count - at, random.Next(1, 64));
                    data.InsertRange(random.Next(data.Count), data.GetRange(at, length));
                    break;
                }
                case 5:
                {
                    var other = seeds[random.Next(seeds.Count)];
                    if (other.Length == 0) break;
                    int from = random.Next(other.Length), length = Math.Min(other.Length - from, random.Next(1, 128));
                    data.InsertRange(at, other.AsSpan(from, length).ToArray());
                    break;
                }
                default:
                {
                    // Text: a number token replaced by a boundary value.
                    var s = Encoding.UTF8.GetString(data.ToArray());
                    var numbers = System.Text.RegularExpressions.Regex.Matches(s, "-?[0-9]+");
                    if (numbers.Count == 0) break;
                    var m = numbers[random.Next(numbers.Count)];
                    s = s[..m.Index] + Boundaries[random.Next(Boundaries.Length)].ToString(System.Globalization.CultureInfo.InvariantCulture) + s[(m.Index + m.Length)..];
                    data = [.. Encoding.UTF8.GetBytes(s)];
                    break;
                }
            }
        }
        return data.ToArray();
    }

    private static byte[] Varint(long value)
    {
        var bytes = new List<byte>();
        ulong v = unchecked((ulong)value);
        do
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            bytes.Add(v != 0 ? (byte)(b | 0x80) : b);
        } while (v != 0);
        return bytes.ToArray();
    }
}
