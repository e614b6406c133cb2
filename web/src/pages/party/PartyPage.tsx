import { useParams } from 'react-router-dom';
import { PartiesHome } from './PartiesHome';
import { PartyRoom } from './PartyRoom';

/** `/party`: start a party or find one; `/party/:partyId`: the party itself. */
export default function PartyPage() {
  const { partyId } = useParams();
  return partyId ? <PartyRoom key={partyId} partyId={partyId} /> : <PartiesHome />;
}
