using System;
using System.Collections;
using System.Collections.Generic;

namespace QuantGen.Core.Artifact;

/// <summary>
/// An immutable array with value equality (sequence equality and a combined hash), so artifact models compare by
/// content: the source generator's incremental pipeline relies on that to cache.
/// </summary>
/// <remarks>Compiled into both QuantGen.Core and the netstandard2.0 source generator: keep it dependency-free C# 9.</remarks>
public readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    private readonly T[]? _items;

    public EquatableArray(T[] items) => _items = items;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "EquatableArray<T>.Empty reads as ImmutableArray<T>.Empty does.")]
    public static EquatableArray<T> Empty => new(Array.Empty<T>());

    public int Count => _items?.Length ?? 0;

    public T this[int index] => _items![index];

    /// <summary>The underlying array; callers must not mutate it.</summary>
    public T[] AsArray() => _items ?? Array.Empty<T>();

    public bool Equals(EquatableArray<T> other)
    {
        var a = AsArray();
        var b = other.AsArray();
        if (ReferenceEquals(a, b)) return true;
        if (a.Length != b.Length) return false;
        var comparer = EqualityComparer<T>.Default;
        for (int i = 0; i < a.Length; i++)
            if (!comparer.Equals(a[i], b[i])) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        unchecked
        {
            int hash = 17;
            foreach (var item in AsArray()) hash = hash * 31 + (item is null ? 0 : item.GetHashCode());
            return hash;
        }
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)AsArray()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => AsArray().GetEnumerator();

    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);
}
