#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of Comety.Core, Comety.Razor and Comety.PostgreSql from the code, with the
# public API analyzer's own code fix (RS0016: "not part of the declared public API").
#
# The build fails (warnings are errors) on a public member that neither PublicAPI.Shipped.txt
# nor PublicAPI.Unshipped.txt lists (RS0016) and on a listed one that is gone (RS0017). After a
# deliberate change of the public surface, or a merge that brings one, run
#
#   bash eng/update-public-api.sh
#
# and review the diff of the two Unshipped files: it is the change of the public API.
#
# Unshipped is rebuilt from nothing: it lists everything public that Shipped does not, so members
# added, renamed or removed since the last release all come out right. PublicAPI.Shipped.txt is
# never touched here. At a release, Unshipped's lines move into Shipped (Unshipped keeps only its
# "#nullable enable" line); from then on removing or changing a shipped member is a breaking
# change, recorded by hand as a "*REMOVED*" line in Unshipped, as the build's RS0017 error says.
set -euo pipefail
cd "$(dirname "$0")/.."

for project in Comety.Core Comety.Razor Comety.PostgreSql; do
  printf '#nullable enable\n' > "$project/PublicAPI.Unshipped.txt"
  dotnet format analyzers "$project/$project.csproj" --diagnostics RS0016 --severity warn
done

# The lists must now match the code: a build reports whatever the fix could not settle.
for project in Comety.Core Comety.Razor Comety.PostgreSql; do
  dotnet build "$project/$project.csproj" --configuration Release --no-restore -nologo -clp:ErrorsOnly
done
git --no-pager diff --stat -- '*/PublicAPI.*.txt' || true
