namespace Comety.Tests.Infrastructure;

/// <summary>
/// The tests on the shared PostgreSQL server (<see cref="PostgresFixture"/>): one cluster for all
/// of them. xunit runs a collection's tests one at a time, and the collection beside the others.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresSuite : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
