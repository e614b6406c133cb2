import { api } from '../../api/client';
import { PeopleList } from '../../components/social/PeopleList';
import { Section } from '../../components/social/Section';

/** Whom you blocked (hidden both ways) and muted (hidden from your feed); undo either here. */
export function BlocksAndMutes() {
  return (
    <Section title="Blocked and muted">
      <div className="grid gap-4 sm:grid-cols-2">
        <div>
          <h3 className="mb-1 font-medium">Blocked</h3>
          <PeopleList
            path="/me/blocks"
            empty="You have blocked nobody."
            since="blocked"
            action={{
              label: 'Unblock',
              run: async (c) => {
                await api.delete(`/me/blocks/${c.user.id}`, { auth: 'required' });
              },
            }}
          />
        </div>
        <div>
          <h3 className="mb-1 font-medium">Muted</h3>
          <PeopleList
            path="/me/mutes"
            empty="You have muted nobody."
            since="muted"
            action={{
              label: 'Unmute',
              run: async (c) => {
                await api.delete(`/me/mutes/${c.user.id}`, { auth: 'required' });
              },
            }}
          />
        </div>
      </div>
    </Section>
  );
}
